// Package config resolves Codex 0.169.0's config.toml layers for one
// machine, user and folder, and applies the composed requirements exactly as
// Codex does at startup: which value each setting ends with, which layer set
// it, what the requirements replaced, and Codex's own warnings (verbatim,
// with a plain-English version). It is the engine behind `codexgov explain`
// and the Team Config linter; docs/codex-config.md records the behaviour it
// reproduces, checked against the real binary by TestConfigConformance.
package config
