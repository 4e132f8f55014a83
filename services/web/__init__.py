"""The graders' web app: static pages plus a thin JSON front over the gRPC GradingService."""
