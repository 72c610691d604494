"""Herald's benchmarks and resilience runs (`make bench`, `make chaos`)."""
