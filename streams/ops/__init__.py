"""What people run beside the worker: the CLI, the query client, the demo, the local broker, the evaluation."""
