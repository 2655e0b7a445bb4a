"""dlpaper2code: paper PDF -> model graph -> verified framework code.

The package is cut in layers; each may import only the layers below it (a
contract in ``pyproject.toml``, checked by ``lint-imports`` in the tests):

    cli                          the command line
    web | eval | workflow        the catalog and editor; benchmarks and scoring; workflow tooling
    paper                        PDF -> figures, tables, graphs, code, report
    read | figclass              diagram reader; figure classifiers
    simulate                     grammar-drawn models and their diagrams
    render | emit                diagrams of a graph; code for four frameworks
    core                         the graph, the layer vocabulary, shapes, errors, config
"""
__version__ = "0.1.0"
