"""The simulator HIS: plays hospital-side journeys against a gateway through its real transports."""
