class DeliveryFailed(Exception):
    """A channel did not take a message (SMTP refused, endpoint answered non-2xx, network);
    worth trying again later."""
