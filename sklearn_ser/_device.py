"""The one reading of a ``device`` parameter (networks, pre-trained models)."""

from __future__ import annotations


def torch_device(device, whom):
    """``device`` as a :class:`torch.device` this machine has, else a clear
    error naming the parameter.

    ``"auto"`` is a GPU when torch sees one, else the CPU. ``"cuda"``
    (``"cuda:N"``) without a GPU torch can use (a CPU build of torch, no
    driver, fewer GPUs than ``N + 1``) and ``"mps"`` off Apple silicon are
    refused here, at fit, rather than failing inside torch part-way.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as e:
        raise ValueError(
            f"{whom}: device={device!r} is not a torch device ({e}); use 'cpu', "
            "'cuda', 'cuda:0' or 'auto'.") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"{whom}: device={device!r}, but torch sees no GPU "
                "(torch.cuda.is_available() is False: a CPU build of torch, or no "
                "driver). Use device='cpu', or 'auto' for a GPU when there is one.")
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"{whom}: device={device!r}, but torch sees {count} GPU(s) "
                f"(cuda:0 .. cuda:{count - 1}).")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"{whom}: device={device!r}, but torch's MPS backend is not "
                "available on this machine. Use device='cpu' or 'auto'.")
    return dev
