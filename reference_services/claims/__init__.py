"""The claims service: claims, their phases and documents."""
