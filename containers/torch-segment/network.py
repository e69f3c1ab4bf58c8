"""The network torch-segment trains and predicts with: a small multilayer perceptron."""

from torch import nn


def build_network(input_width, hidden_units, hidden_layers, dropout, classes):
    """input → (Linear, ReLU, Dropout) × hidden_layers → Linear: one logit per class."""
    layers, width = [], input_width
    for _ in range(hidden_layers):
        layers += [nn.Linear(width, hidden_units), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_units
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)
