"""The DRF API for frontends. Every policy is set on the views, not taken from the host's globals."""
