"""The kernel contract: every backend implements these names with these signatures.

Kernels are pure functions on arrays (NumPy arrays for ``numpy_ref`` and ``numba_cpu``,
CuPy arrays for ``cuda``) with explicit integer parameters. They allocate and return their
outputs, never modify their inputs, and know nothing of autograd. The package never imports
``minicnn``; ``minicnn.backend`` imports it.

Shape letters: ``N`` batch, ``C`` input channels, ``H, W`` input height and width, ``OC`` output
channels, ``KH, KW`` kernel size, ``SH, SW`` stride, ``PH, PW`` zero padding (symmetric, on
each side), ``DH, DW`` dilation, ``G`` groups, ``OH, OW`` output height and width.
Incoming gradients are ``gy``; outgoing ``gx, gw, gb``.

Kernels trust their arguments. The ops and optimizers of ``minicnn`` check everything a
kernel reads and writes once, at their boundary, before the call: every array is C-contiguous
(made so there, once), of the shape given below, and all floating-point arrays of one call share
one dtype (float32 or float64); indices are int64; sizes and geometry are consistent (the kernel
fits the padded input, OH and OW follow ``geometry.out_size``). Only the batch N may be 0, and
a kernel then returns empty results (and zero weight gradients). A compiled kernel has no bounds
checks, so a call that breaks this contract reads or writes outside its arrays; call the kernels
directly only with arguments that keep it.

Each backend module ends with an explicit ``KERNELS = {name: function}`` dict holding every
name in :data:`KERNEL_NAMES`; ``tests/kernels/test_contract.py`` checks names and parameter
names for every importable backend.

Direct twins. Each heavy kernel (convolution, pooling, batch norm) also exists in every backend
as ``<name>_direct``: the loops of its definition, written to be read, with the fast kernel's
parameters and results (``numpy_ref/direct.py``, ``numba_cpu/direct.py``, ``cuda/direct.cu``).
Each backend exports them in a second table, ``DIRECT = {name_direct: function}``, holding
every name in :data:`DIRECT_NAMES`, held to the same contract test; ``minicnn.backend.kernel``
fetches one by its name (``kernel("conv2d_forward_direct")``). The fast kernels are the
advanced reading, after the twins and ``benchmarks/conv_variants``.

Light kernels. Six kernels do light math that an op could write as a few lines of ``xp`` array
code: ``sgd_update_``, ``adam_update_``, ``residual_add_forward``, ``residual_add_backward``,
``batchnorm_forward_eval`` and ``batchnorm_update_running``. The rule: such a kernel exists only
while ``python -m benchmarks.light_kernels`` measures it faster than the same math as array code
(its ``numpy_ref`` function, which is that array code) on some backend; where none is faster,
the op writes the array code and the kernel goes. Both optimizers follow it: each step is one
fused kernel. A kernel does in one pass over memory what array code does in up to fourteen (on
``numba``), and in one launch what array code does in up to fourteen (on ``cupy``, where a
training step is bound by launches; ``benchmarks/launches.py`` counts them per ResNet-20 step).
The measured numbers are in ``benchmarks/README.md``, under "Light kernels".
``sgd_foreach_update_`` and ``adam_foreach_update_`` go one step further on ``cupy``: one
launch for a whole list of parameters (the CPU backends loop over their one-parameter kernel,
``kernels/foreach.py``), and the
ReLU op's backward is ``residual_add_backward`` with its ReLU.
"""

# name -> parameter list. The docstring of each numpy_ref function is the full specification.
# fmt: off
KERNEL_SIGNATURES: dict[str, tuple[str, ...]] = {
    # conv2d: x (N, C, H, W), w (OC, C // G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)
    "conv2d_forward": ("x", "w", "b", "SH", "SW", "PH", "PW", "DH", "DW", "G"),
    # gy (N, OC, OH, OW), w -> gx (N, C, H, W)
    "conv2d_backward_input": ("gy", "w", "H", "W", "SH", "SW", "PH", "PW", "DH", "DW", "G"),
    # gy (N, OC, OH, OW), x (N, C, H, W) -> gw (OC, C // G, KH, KW)
    "conv2d_backward_weight": ("gy", "x", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW", "G"),
    # max pooling; padding acts as -inf. Returns (y, idx): idx (N, C, OH, OW) int64 holds
    # the flat index h * W + w of the chosen input element (first maximum in window order;
    # NaN wins, and a window holding NaN picks its last NaN, as in PyTorch).
    "maxpool2d_forward": ("x", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW", "OH", "OW"),
    # gy (N, C, OH, OW), idx -> gx (N, C, H, W); written as a gather over the windows that
    # can contain each input element, so no two threads write the same slot.
    "maxpool2d_backward": ("gy", "idx", "H", "W", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW"),
    # average pooling with PyTorch's divisor rules (count_include_pad is 0 or 1).
    "avgpool2d_forward": ("x", "KH", "KW", "SH", "SW", "PH", "PW", "OH", "OW", "count_include_pad"),
    "avgpool2d_backward": ("gy", "H", "W", "KH", "KW", "SH", "SW", "PH", "PW",
                           "count_include_pad"),
    # adaptive pooling: output cell i covers [floor(i*H/OH), ceil((i+1)*H/OH)).
    "adaptive_avgpool2d_forward": ("x", "OH", "OW"),
    "adaptive_avgpool2d_backward": ("gy", "H", "W"),
    "adaptive_maxpool2d_forward": ("x", "OH", "OW"),  # -> (y, idx) as maxpool2d_forward
    "adaptive_maxpool2d_backward": ("gy", "idx", "H", "W"),
    # batch norm on x (N, C, L) (the op passes (N, C, H, W) as L = H*W, (N, C) as L = 1);
    # gamma, beta (C,). The op never calls these with an empty x.
    # Training forward returns (y, mean, invstd) with biased batch variance.
    "batchnorm_forward_train": ("x", "gamma", "beta", "eps"),
    "batchnorm_forward_eval": ("x", "running_mean", "running_var", "gamma", "beta", "eps"),
    # Backward of the training forward -> (gx, ggamma, gbeta).
    "batchnorm_backward": ("gy", "x", "gamma", "mean", "invstd"),
    # Running statistics after one training batch of M values per channel -> (new_mean,
    # new_var): (1 - momentum) * running + momentum * batch, with the batch variance recovered
    # from invstd and made unbiased (times M / (M - 1)), as PyTorch.
    "batchnorm_update_running": ("running_mean", "running_var", "mean", "invstd", "momentum",
                                 "eps", "M"),
    # uint8 keep-mask of the given shape: element i (flat, C order) is kept iff
    # u(seed, i) >= p, u from the counter-based hash in numpy_ref/dropout.py; every backend
    # produces the same mask for the same seed.
    "dropout_mask": ("shape", "p", "seed"),
    # The optimizer steps. The trailing underscore marks the only kernels that write into
    # their arguments (as PyTorch's in-place methods): p and its state are updated in place,
    # grad is read. SGD's buf is the momentum buffer (None when momentum == 0); with
    # d = -grad if maximize else grad:
    #   g = d + weight_decay * p;  buf = g if first else momentum * buf + (1 - dampening) * g
    #   g = g + momentum * buf if nesterov else buf   (when momentum != 0);   p -= lr * g
    "sgd_update_": ("p", "grad", "buf", "lr", "momentum", "dampening", "weight_decay",
                    "nesterov", "maximize", "first"),
    # The same step for a list of parameters (bufs None when momentum == 0): one GPU launch.
    "sgd_foreach_update_": ("params", "grads", "bufs", "lr", "momentum", "dampening",
                            "weight_decay", "nesterov", "maximize", "first"),
    # Adam at step t = step >= 1: exp_avg m, exp_avg_sq v, max_exp_avg_sq v_max (None without
    # amsgrad); weight decay shrinks p (decoupled, AdamW) or joins d (L2), then
    #   m = beta1 * m + (1 - beta1) * d;  v = beta2 * v + (1 - beta2) * d * d;  v_max = max
    #   p -= lr / (1 - beta1**t) * m / (sqrt(v or v_max) / sqrt(1 - beta2**t) + eps)
    "adam_update_": ("p", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "lr", "beta1",
                     "beta2", "eps", "weight_decay", "decoupled", "maximize", "step"),
    # y = x + shortcut, then max(y, 0) if relu; backward returns the gradient both inputs get.
    # The same step for a list of parameters at one step t (max_exp_avg_sqs None without
    # amsgrad): one GPU launch.
    "adam_foreach_update_": ("params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs", "lr",
        "beta1", "beta2", "eps", "weight_decay", "decoupled", "maximize", "step"),
    "residual_add_forward": ("x", "shortcut", "relu"),
    "residual_add_backward": ("gy", "y", "relu"),
}
# fmt: on

KERNEL_NAMES: tuple[str, ...] = tuple(KERNEL_SIGNATURES)

# The heavy kernels. Each has a direct twin, named <name>_direct, with the same parameters.
HEAVY_KERNELS: tuple[str, ...] = (
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "adaptive_avgpool2d_forward",
    "adaptive_avgpool2d_backward",
    "adaptive_maxpool2d_forward",
    "adaptive_maxpool2d_backward",
    "batchnorm_forward_train",
    "batchnorm_forward_eval",
    "batchnorm_backward",
)

DIRECT_SIGNATURES: dict[str, tuple[str, ...]] = {
    f"{name}_direct": KERNEL_SIGNATURES[name] for name in HEAVY_KERNELS
}

DIRECT_NAMES: tuple[str, ...] = tuple(DIRECT_SIGNATURES)
