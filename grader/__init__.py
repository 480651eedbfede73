"""autograd-lab: exercises on PyTorch autograd and the grader that scores them."""

__version__ = "0.1.0"
