"""Error types shared by every stage.

Every problem in a graph is reported as a :class:`GraphIssue` that names the
node at fault and the kind of problem, so a CLI, a web editor or a test can
point at it. :class:`GraphError` carries one or more issues.
"""
from __future__ import annotations

from dataclasses import dataclass, field


# The kinds of graph problem, each with a one-line meaning (shown by the CLI).
ISSUE_KINDS = {
    "syntax": "the file is not valid JSON or does not follow the graph schema",
    "unknown_layer_type": "layer_type is not in the vocabulary",
    "unknown_param": "a parameter the layer type does not have",
    "bad_param": "a parameter of the wrong kind or out of its allowed range",
    "missing_param": "a required parameter is absent",
    "missing_input": "a layer (other than Input) has no from_layers",
    "dangling_input": "from_layers names a layer that does not exist",
    "arity": "the layer got the wrong number of inputs",
    "duplicate_name": "two layers share a layer_name",
    "cycle": "the connections form a cycle",
    "no_input": "the graph has no Input layer",
    "shape_mismatch": "the tensor shapes do not fit the layer",
    "unknown_block": "layer_type names no layer and no block",
    "block": "a composite block is malformed or used with bad parameters",
}


@dataclass(frozen=True)
class GraphIssue:
    kind: str
    message: str
    node: str | None = None

    def __str__(self) -> str:
        where = f"layer '{self.node}'" if self.node else "graph"
        return f"{where}: {self.message} [{self.kind}]"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "node": self.node, "message": self.message}


@dataclass
class GraphError(Exception):
    issues: list[GraphIssue] = field(default_factory=list)
    source: str | None = None

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.issues) == 1:
            return head + str(self.issues[0])
        lines = [f"{head}{len(self.issues)} problems:"] + [f"  - {i}" for i in self.issues]
        return "\n".join(lines)

    @property
    def kinds(self) -> set[str]:
        return {i.kind for i in self.issues}


class EmitError(Exception):
    """A target framework cannot express a layer or parameter."""

    def __init__(self, target: str, node: str | None, message: str, declared: bool = False):
        # declared: the target's template says it cannot express this (a refusal by design,
        # e.g. BVLC Caffe has no attention), as opposed to a gap in the template
        self.target, self.node, self.declared = target, node, declared
        where = f"layer '{node}'" if node else "graph"
        super().__init__(f"{target}: {where}: {message}")
