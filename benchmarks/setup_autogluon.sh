#!/usr/bin/env bash
# Creates benchmarks/.venv-autogluon: AutoGluon Tabular, CPU only, for run.py's "autogluon" system.
#
# Why a venv of its own: autogluon.tabular 1.6 pins pandas<2.4 and pyarrow<25, while this project
# runs on pandas 3 and pyarrow 26; one environment cannot hold both. run.py hands AutoGluon the
# split as Parquet files and reads its scores back as JSON (benchmarks/autogluon_worker.py).
#
# What it installs: torch (CPU build, first, so nothing later pulls a CUDA build), then
# autogluon.tabular with the extras of the model families its default presets train
# (LightGBM, CatBoost, XGBoost, the fastai and torch neural networks). Not the "all" extra: it
# adds Ray (only used for bagged fits, which the default preset does not do) and foundation
# models whose weights come from a model hub at run time.
#
# Settings (environment variables):
#   AUTOGLUON_VENV     where to create it (default: benchmarks/.venv-autogluon)
#   AUTOGLUON_VERSION  autogluon.tabular version (default: 1.6.3)
#   TORCH_VERSION      torch version (default: 2.13.0, within autogluon's torch<2.14)
#   TORCH_INDEX_URL    a package index serving CPU builds of torch, for machines where plain
#                      `pip install torch` would fetch a CUDA build (default: none)
#   PYTHON             the interpreter to build the venv from (default: python3)
#
# Usage: bash benchmarks/setup_autogluon.sh      (about 1.5 GB; rerunning it updates in place)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${AUTOGLUON_VENV:-$here/.venv-autogluon}"
autogluon_version="${AUTOGLUON_VERSION:-1.6.3}"
torch_version="${TORCH_VERSION:-2.13.0}"
python="${PYTHON:-python3}"

started=$(date +%s)
echo "creating $venv with $($python --version)"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --no-input)

torch_args=("torch==$torch_version")
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    torch_args+=(--index-url "$TORCH_INDEX_URL")
fi
"${pip[@]}" "${torch_args[@]}"

# torch pinned again so that the resolver keeps the CPU build installed above
"${pip[@]}" "torch==$torch_version" \
    "autogluon.tabular[lightgbm,catboost,xgboost,fastai]==$autogluon_version"

"$venv/bin/python" - <<'EOF'
import autogluon.tabular, pandas, sklearn, torch
print(f"autogluon.tabular {autogluon.tabular.__version__}, pandas {pandas.__version__}, "
      f"scikit-learn {sklearn.__version__}, torch {torch.__version__} "
      f"(CUDA build: {torch.version.cuda is not None})")
EOF
echo "done in $(( $(date +%s) - started )) s; size $(du -sh "$venv" | cut -f1)"
