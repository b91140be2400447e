import socket

from harness.processes import EPHEMERAL_RANGE_FILE, free_port


def test_free_ports_are_never_handed_out_twice_and_stay_below_the_ephemeral_range():
    first_ephemeral = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(1024 <= port < first_ephemeral for port in ports)


def test_a_free_port_can_be_listened_on():
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
