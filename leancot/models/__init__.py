"""Models layer: the scoring API shared by training and search, and its backends.

- `scoring`: `SamplingParams`, `Completion`, `Proposal`, the `Policy` / `PRM` protocols,
  `propose`, and the `HTTPPolicy` (OpenAI-compatible server) and `VLLMPolicy` backends.
- `hf`: the transformers backends `HFPolicy` / `HFPRM` and `load_tokenizer`.
- `prompts`: the state prompt, the step text and the PRM token encoding (`encode_prm`), the same
  for training (leancot/train/) and inference (leancot/prover/).

Importing this package is cheap: torch, transformers and vLLM load inside the functions that need
them. It imports nothing above `translate`; `train`, `prover` and `pipeline` import it.
"""
