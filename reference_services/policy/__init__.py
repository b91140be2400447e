"""The policy service: customers, contracts, attestations, requests, identification."""
