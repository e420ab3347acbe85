"""The table and the plot of ``benchmarks.transfer``'s summary (``transfer.json``)."""

from __future__ import annotations

from pathlib import Path

ARM_NAMES = {
    "scratch": "from scratch",
    "embeddings": "frozen embeddings (84) + new head",
    "embeddings-conv": "frozen conv features (400) + new head",
    "finetune": "fine-tuned (body lr / 10)",
    "knn-emb-cosine": "1-NN on embeddings, cosine",
    "knn-emb-euclidean": "1-NN on embeddings, euclidean",
    "knn-conv-cosine": "1-NN on conv features, cosine",
    "knn-pixels-cosine": "1-NN on pixels, cosine",
    "knn-pixels-euclidean": "1-NN on pixels, euclidean",
}
TARGET_NAMES = {"digits5-9": "MNIST digits 5-9 (near)", "fashion": "Fashion-MNIST (far)"}
BUDGETS = [10, 100, "all"]


def _cell(row: dict) -> str:
    seeds = ", ".join(f"{100 * a:.2f}" for a in row["accuracies"])
    if len(row["accuracies"]) < 2:
        return f"{100 * row['mean']:.2f} (one seed: {row['seeds'][0]})"
    return f"{100 * row['mean']:.2f} ± {100 * row['std']:.2f} ({seeds})"


def markdown(summary: dict) -> str:
    """Test accuracy in %, mean ± sample std over the seeds, each seed's value in brackets."""
    rows = summary["rows"]
    lines = ["# Transfer learning from a LeNet-5 trained on MNIST digits 0-4", ""]
    src = summary["source"]
    lines.append(
        f"Source network: {src['what']}; {100 * src['test_accuracy_digits0-4']:.2f}% on the "
        f"{src['test_images']} test digits 0-4. Backend {summary['backend']}. Test accuracy in %, "
        "mean ± sample std over seeds (each seed's value in brackets)."
    )
    lines += ["", "## The classic protocol (frozen convolutional layers, dense layers trained)", ""]
    for r in rows:
        if r["part"] == "classic":
            lines.append(f"Test digits 5-9: {_cell(r)}, seeds {r['seeds']}.")
    lines += ["", "## Label budget", ""]
    budget_rows = [r for r in rows if r["part"] == "budget"]
    for target, title in TARGET_NAMES.items():
        lines += [
            f"### {title}",
            "",
            "| arm | " + " | ".join(f"{b} / class" for b in BUDGETS) + " |",
        ]
        lines.append("|---|" + "---|" * len(BUDGETS))
        for arm, name in ARM_NAMES.items():
            cells = []
            for b in BUDGETS:
                match = [
                    r
                    for r in budget_rows
                    if (r["target"], r["budget"], r["arm"]) == (target, b, arm)
                ]
                cells.append(_cell(match[0]) if match else "-")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(summary: dict, path: Path) -> None:
    """Accuracy against labels per class, one panel per target, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in summary["rows"] if r["part"] == "budget"]
    styles = {
        "scratch": ("tab:gray", "-", "o"),
        "embeddings": ("tab:blue", "-", "s"),
        "embeddings-conv": ("tab:green", "-", "D"),
        "finetune": ("tab:red", "-", "^"),
        "knn-emb-cosine": ("tab:blue", ":", "s"),
        "knn-conv-cosine": ("tab:green", ":", "D"),
        "knn-pixels-euclidean": ("tab:gray", ":", "o"),
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for ax, (target, title) in zip(axes, TARGET_NAMES.items()):
        for arm, (color, ls, marker) in styles.items():
            pts = [
                r
                for b in BUDGETS
                for r in rows
                if (r["target"], r["budget"], r["arm"]) == (target, b, arm)
            ]
            if not pts:
                continue
            xs = [BUDGETS.index(r["budget"]) for r in pts]
            ax.errorbar(
                xs,
                [100 * r["mean"] for r in pts],
                yerr=[100 * r["std"] for r in pts],
                color=color,
                linestyle=ls,
                marker=marker,
                capsize=3,
                label=ARM_NAMES[arm],
            )
        ax.set_xticks(range(len(BUDGETS)), [str(b) for b in BUDGETS])
        ax.set_xlabel("labelled training images per class")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    classic = [r for r in summary["rows"] if r["part"] == "classic"]
    note = ""
    if classic:
        note = f"; classic protocol (frozen conv, dense trained, digits 5-9): {100 * classic[0]['mean']:.2f}%"
    fig.suptitle(
        "Transfer from a LeNet-5 trained on digits 0-4 (mean ± std over "
        f"{len(rows[0]['seeds']) if rows else 0} seeds){note}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
