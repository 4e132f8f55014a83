"""Simulated graders driven over the gRPC API (benchmarks, end-to-end tests): a clock for
compressed runs that never runs ahead of the work, and the crowd itself. A client of the API,
like the web app; nothing in the server imports it."""
