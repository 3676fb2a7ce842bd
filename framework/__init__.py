"""Detection-as-code for Microsoft Sentinel and Defender XDR.

Data flows one way: YAML rule -> rule model -> validation -> evaluation of the
rule's test cases -> rendering of deployable artifacts -> rule pack.
"""

__version__ = "0.2.0"
