"""Generated gRPC/protobuf stubs; see services/protogen.py."""
