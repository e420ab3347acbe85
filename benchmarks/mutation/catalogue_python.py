"""Hand-written mutants of the Python modules: autograd and ops, optimizers and schedules, data,
training and checkpoints, the command line. Each is a slip a reviewer has seen made (an
operator, a bound, a forgotten factor or call), mapped to the tests that should catch it."""

from __future__ import annotations

from .mutant import mutant

M = "minicnn/"
AUTOGRAD = ("tests/test_autograd.py", "tests/test_tensor.py", "-k", "not numba")
LOSS = ("tests/ops/test_loss.py", "-k", "not numba")
ELEMENTWISE = ("tests/ops/test_elementwise.py", "-k", "not numba")
OPTIM = ("tests/optim", "-k", "not numba")
LOADER = ("tests/data/test_loader.py", "tests/data/test_transforms.py")
# The forked writer killed 60 times is left out: it is slow, and the deterministic tests of a
# write that fails half way catch the same slips.
TRAINING = ("tests/test_training_state.py", "tests/test_checkpoint.py", "tests/test_training.py",
            "-k", "not numba and not killed_at_any_moment")  # fmt: skip
CLI = ("tests/test_cli.py",)

AUTOGRAD_OPS = [
    mutant("backward-in-forward-order", "autograd_ops", M + "tensor.py",
           "for t in reversed(_topological_order(root)):", "for t in _topological_order(root):",
           *AUTOGRAD),
    mutant("softmax-backward-drops-y-in-sum", "autograd_ops", M + "ops/loss.py",
           "(gy - (gy * self.y).sum(axis=self.dim, keepdims=True))",
           "(gy - gy.sum(axis=self.dim, keepdims=True))", *LOSS),
    mutant("log-softmax-backward-forgets-exp", "autograd_ops", M + "ops/loss.py",
           "gy - backend.xp().exp(self.y) * gy.sum", "gy - self.y * gy.sum", *LOSS),
    mutant("cross-entropy-smoothing-over-C-minus-1", "autograd_ops", M + "ops/loss.py",
           "(label_smoothing / C) * w[None, :]", "(label_smoothing / (C - 1)) * w[None, :]", *LOSS),
    mutant("cross-entropy-ignore-index-as-negative", "autograd_ops", M + "ops/loss.py",
           "valid = t != ignore_index", "valid = t >= 0", *LOSS),
    mutant("nll-mean-over-all-rows", "autograd_ops", M + "ops/loss.py",
           'return losses.sum() / total if reduction == "mean" else losses.sum()',
           'return losses.mean() if reduction == "mean" else losses.sum()', *LOSS),
    mutant("linear-bias-grad-mean", "autograd_ops", M + "ops/linalg.py",
           "gb = gy2.sum(axis=0)", "gb = gy2.mean(axis=0)", "tests/ops/test_linear.py",
           "tests/ops/test_linalg.py", "-k", "not numba"),
    mutant("sqrt-backward-forgets-2", "autograd_ops", M + "ops/elementwise.py",
           "return gy / (2 * self.y)", "return gy / self.y", *ELEMENTWISE),
    mutant("tanh-backward-not-squared", "autograd_ops", M + "ops/elementwise.py",
           "return gy * (1 - self.y * self.y)", "return gy * (1 - self.y)", *ELEMENTWISE),
    mutant("sigmoid-backward-drops-1-minus-y", "autograd_ops", M + "ops/elementwise.py",
           "return gy * self.y * (1 - self.y)", "return gy * self.y", *ELEMENTWISE),
]  # fmt: skip

OPTIMIZERS = [
    mutant("rmsprop-centered-sign", "optim", M + "optim/rmsprop.py",
           "xp.sqrt(v - g_avg * g_avg)", "xp.sqrt(v + g_avg * g_avg)", *OPTIM),
    mutant("rmsprop-momentum-buffer-overwritten", "optim", M + "optim/rmsprop.py",
           "buf += g / avg", "buf[...] = g / avg", *OPTIM),
    mutant("rmsprop-square-of-grad-forgotten", "optim", M + "optim/rmsprop.py",
           "v += (1 - alpha) * g * g", "v += (1 - alpha) * g", *OPTIM),
    mutant("adagrad-lr-decay-off-by-one", "optim", M + "optim/adagrad.py",
           '(1 + (state["step"] - 1) * group["lr_decay"])', '(1 + state["step"] * group["lr_decay"])',
           *OPTIM),
    mutant("adagrad-initial-accumulator-ignored", "optim", M + "optim/adagrad.py",
           'xp.full_like(p.array, group["initial_accumulator_value"])', "xp.zeros_like(p.array)",
           *OPTIM),
    mutant("steplr-true-division", "optim", M + "optim/lr_scheduler.py",
           "self.gamma ** (self.last_epoch // self.step_size)",
           "self.gamma ** (self.last_epoch / self.step_size)", *OPTIM),
    mutant("multistep-bisect-left", "optim", M + "optim/lr_scheduler.py",
           "passed = bisect.bisect_right(self.milestones, self.last_epoch)",
           "passed = bisect.bisect_left(self.milestones, self.last_epoch)", *OPTIM),
    mutant("cosine-one-epoch-ahead", "optim", M + "optim/lr_scheduler.py",
           "math.cos(math.pi * self.last_epoch / self.T_max)",
           "math.cos(math.pi * (self.last_epoch + 1) / self.T_max)", *OPTIM),
    mutant("linearlr-not-clamped", "optim", M + "optim/lr_scheduler.py",
           "progress = min(self.last_epoch, self.total_iters) / self.total_iters",
           "progress = self.last_epoch / self.total_iters", *OPTIM),
    mutant("sequentiallr-bisect-left", "optim", M + "optim/lr_scheduler.py",
           "i = bisect.bisect_right(self._milestones, self.last_epoch)",
           "i = bisect.bisect_left(self._milestones, self.last_epoch)", *OPTIM),
    mutant("onecycle-cos-anneal-reversed", "optim", M + "optim/lr_scheduler_onecycle.py",
           "return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2",
           "return start + (end - start) * (1 + math.cos(math.pi * pct)) / 2", *OPTIM),
]  # fmt: skip

DATA = [
    mutant("loader-len-drops-partial-batch", "data", M + "data/loader.py",
           "return N // B if self.drop_last else -(-N // B)", "return N // B", *LOADER),
    mutant("loader-shuffles-with-global-rng", "data", M + "data/loader.py",
           "order = self._generator.permutation(N) if self.shuffle",
           "order = np.random.permutation(N) if self.shuffle", *LOADER),
    mutant("loader-scales-by-256", "data", M + "data/loader.py", "x /= 255", "x /= 256", *LOADER),
    mutant("loader-one-transform-seed-per-epoch", "data", M + "data/loader.py",
           "rng = np.random.default_rng([epoch_seed, b])", "rng = np.random.default_rng(epoch_seed)",
           *LOADER),
    mutant("loader-resume-keeps-own-generator", "data", M + "data/loader.py",
           "        self._generator = generator\n", "", *LOADER, "tests/test_training_state.py",
           kind="resume-rng"),
    mutant("normalize-precedence", "data", M + "data/transforms.py",
           "return (batch - mean) / std", "return batch - mean / std", *LOADER),
    mutant("flip-flips-rows", "data", M + "data/transforms.py",
           "out[flip] = batch[flip, :, :, ::-1]", "out[flip] = batch[flip, :, ::-1, :]", *LOADER),
    mutant("checksum-cache-keyed-by-path", "data", M + "data/download.py",
           "return os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns",
           "return os.path.realpath(path), 0, 0, 0", "tests/data/test_download.py",
           kind="checksum-cache"),
    mutant("download-mismatch-not-flagged", "data", M + "data/download.py",
           "                checksum_failed = True\n", "", "tests/data/test_download.py"),
]  # fmt: skip

TRAINING_AREA = [
    mutant("resume-forgets-minicnn-generator", "training", M + "training.py",
           'random.set_rng_state(state["rng"])', "pass", *TRAINING, kind="resume-rng"),
    mutant("rollback-forgets-minicnn-generator", "training", M + "training_control.py",
           "random.set_rng_state(self.rng)", "pass", "tests/test_interrupt.py", "-k",
           "numpy and raise and forward", kind="resume-rng"),
    mutant("infinite-loss-not-divergence", "training", M + "training.py",
           "if not math.isfinite(value):", "if math.isnan(value):", *TRAINING, kind="inf-loss"),
    mutant("checkpoint-copied-into-place", "training", M + "checkpoint.py",
           "        os.replace(tmp, path)\n",
           "        with open(tmp, \"rb\") as src, open(path, \"wb\") as dst:\n"
           "            shutil.copyfileobj(src, dst)\n        os.unlink(tmp)\n",
           *TRAINING, kind="atomic-checkpoint"),
    mutant("checkpoint-written-straight-to-its-name", "training", M + "checkpoint.py",
           (("with os.fdopen(fd, \"wb\") as f:", "with open(path, \"wb\") as f:"),
            ("        os.replace(tmp, path)\n", "        os.close(fd)\n        os.unlink(tmp)\n")),
           None, *TRAINING, kind="atomic-checkpoint"),
    mutant("checkpoint-rewritten-in-place-previous-copied", "training", M + "checkpoint.py",
           (("        os.link(path, tmp)\n", "        shutil.copyfile(path, tmp)\n"),
            ("        os.replace(tmp, path)\n",
             "        with open(tmp, \"rb\") as src, open(path, \"wb\") as dst:\n"
             "            shutil.copyfileobj(src, dst)  # the same file, rewritten\n"
             "        os.unlink(tmp)\n")),
           None, *TRAINING, kind="atomic-checkpoint"),
    mutant("evaluate-in-training-mode", "training", M + "evaluation.py",
           "    model.eval()\n", "", *TRAINING, kind="eval-mode"),
    mutant("evaluate-leaves-training-mode", "training", M + "evaluation.py",
           "model.train(was_training)", "model.train()", *TRAINING, kind="eval-mode"),
    mutant("per-batch-schedule-also-stepped-per-epoch", "training", M + "training.py",
           "if scheduler is not None and not scheduler_per_batch:", "if scheduler is not None:",
           *TRAINING),
    mutant("epoch-loss-not-weighted-by-batch", "training", M + "training.py",
           "totals.loss_sum += value * n", "totals.loss_sum += value", *TRAINING),
    mutant("missing-last-does-not-fall-back", "training", M + "checkpoint.py",
           "except (SerializationError, FileNotFoundError) as e:", "except SerializationError as e:",
           *TRAINING),
]  # fmt: skip

CLI_AREA = [
    mutant("user-error-exit-code", "cli", M + "cli.py", "        return 2\n", "        return 1\n",
           *CLI),
    mutant("interrupt-exit-code", "cli", M + "cli.py", "return 130", "return 1", *CLI),
    mutant("warmup-bound-off-by-one", "cli", M + "cli_train.py",
           'if args.warmup_epochs >= recipe["epochs"]', 'if args.warmup_epochs > recipe["epochs"]',
           *CLI),
    mutant("flag-of-zero-ignored", "cli", M + "cli_train.py",
           "if getattr(args, key, None) is not None:", "if getattr(args, key, None):", *CLI),
    mutant("nesterov-off", "cli", M + "cli_train.py", 'nesterov=recipe["momentum"] > 0,',
           "nesterov=False,", *CLI),
    mutant("resume-does-not-check-seed", "cli", M + "cli_train.py",
           '        ("seed", "--seed", args.seed),\n', "", *CLI),
    mutant("loader-seed-not-from-flag", "cli", M + "cli_train.py", "        seed=args.seed,\n",
           "", *CLI),
]  # fmt: skip
