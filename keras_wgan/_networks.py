"""What the model and the Lipschitz methods ask of a network."""


def has_layer(model, layer_class) -> bool:
    """Whether `model` holds a layer of `layer_class`, at any depth."""
    return any(isinstance(layer, layer_class) for layer in model._flatten_layers())
