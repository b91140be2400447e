"""The image's build files agree with the manifests: the Dockerfile is multi-stage,
installs the locked dependencies, runs as the manifests' user with the model where the
configuration names it, and the image test starts every process of the Procfile.
Files only: `make image` and `make image-test` build and run the image itself."""
import re
from pathlib import Path

import yaml

from tests.deploy.test_deployment_files import KUBERNETES, procfile

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SMOKE_TEST = (ROOT / "deploy" / "image" / "smoke_test.sh").read_text()


def stages():
    return re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", DOCKERFILE, re.MULTILINE)


def test_the_image_is_built_in_two_stages_and_the_final_one_has_no_build_tools():
    assert len(stages()) == 2 and stages()[0][1] == "build"
    final = DOCKERFILE.split("\nFROM ", 2)[2]
    assert "COPY --from=build /app /app" in final
    assert "npm" not in final and "apt-get" not in final and "pip install" not in final


def test_the_dependencies_are_the_locked_ones():
    assert re.search(r"pip install .*-r requirements\.txt -c constraints\.txt", DOCKERFILE)
    assert "npm ci" in DOCKERFILE


def test_the_image_runs_as_the_manifests_user_with_the_model_the_configuration_names():
    final = DOCKERFILE.split("\nFROM ", 2)[2]
    assert "USER 10001" in final and "--uid 10001" in final
    configmap = yaml.safe_load((KUBERNETES / "configmap.yaml").read_text())
    model = configmap["data"]["OYAT_MODEL"]
    assert f"OYAT_MODEL=/app/{model}" in DOCKERFILE
    for manifest in KUBERNETES.glob("*.yaml"):
        for document in yaml.safe_load_all(manifest.read_text()):
            text = yaml.safe_dump(document)
            if "runAsUser" in text:
                assert "runAsUser: 10001" in text, manifest.name


def test_the_image_test_starts_every_process_of_the_procfile():
    for name, command in procfile().items():
        module = re.search(r"-m (\S+)", command).group(1)
        assert f"-m {module}" in SMOKE_TEST, name
