"""What every reference-network builder here shares: appending one layer to a graph document."""


def add_layer(layers: list, layer_type: str, name: str, params: dict, inputs) -> str:
    """Append one layer (graph-document form) to `layers` and return its name."""
    layers.append({"layer_type": layer_type, "layer_name": name, "layer_params": params,
                   "from_layers": list(inputs)})
    return name
