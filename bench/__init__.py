"""The project's benchmark (`make bench`): whole conversations through the REST
channel against the real stack, alone and many at once; latency, throughput,
errors, NLU parse latency, memory, model load and training times."""
