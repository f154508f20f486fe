"""RQ jobs (functions taking ids) and the outbound gateways they use, one module per outside system."""
