"""The networks: their layer plans as data (plan, network_plans), the Keras models
built from them (mlp, networks), a seed's saved file (saved)."""
