"""OFF-ApexNet (Gan, Liong, Yau, Huang, Tan: "OFF-ApexNet on micro-expression recognition
system", Signal Processing: Image Communication 74, 2019; arXiv 1805.08699).

Followed: the input is the optical flow from onset to apex, horizontal (u) and vertical (v)
components only, each a 28 x 28 map; two identical streams, one per component, each two
convolutions of 5 x 5 (6 then 16 filters, ReLU), each followed by a 2 x 2 max-pool; the streams'
features concatenated and read by two fully connected layers of 1024 units and a softmax.
Adapted: fsr's own training recipe (AdamW, warm-up and cosine decay, class-balanced loss, a fixed
budget of 60 epochs, the last kept) in place of the paper's plain Adam at 1e-4 over thousands of
iterations, so that every model of the bench trains under one honest protocol; the strain map,
which the paper does not use, is dropped; 'same' padding keeps the 28 -> 14 -> 7 maps of the
paper's description; dropout 0.5 before the classifier (the paper regularises its FC layers but
does not state how).
"""

import torch
from torch import nn


def _stream() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )


class OffApexNet(nn.Module):
    """OFF-ApexNet: two 2-layer CNN streams on u and v, two FC-1024 layers (Gan et al. 2019)."""

    name = "offapexnet"

    def __init__(self, config, shapes):
        super().__init__()
        _, size, _ = shapes["flow"]
        self.u, self.v = _stream(), _stream()
        side = size // 4
        self.head = nn.Sequential(
            nn.Linear(2 * 16 * side * side, 1024),
            nn.ReLU(),
            nn.Linear(1024, 1024),
            nn.ReLU(),
            nn.Linear(1024, shapes["classes"]),
        )

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.u(flow[:, :1]), self.v(flow[:, 1:2])], dim=1))
