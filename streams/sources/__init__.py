"""Where events come from: the simulator, files, and the producer that sends them to Kafka."""
