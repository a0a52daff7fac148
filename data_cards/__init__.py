"""The data card of a release: statistics, figures and README.md, generated from a run folder.

`card.render_card(run_dir, out_dir, repo_id, version)` is the entry point; `stats`
streams the shards, `plots` draws the figures, `metadata` builds the Hub's YAML
header and `sections` renders the Markdown into `template.md` (`execution`: the
section on execution-verified pairs and their kill rates).
"""
