"""Reference implementation of the insurer's policy and claims services."""
