"""The AsyncAPI document of the NATS contracts, generated from the services' real routers."""
