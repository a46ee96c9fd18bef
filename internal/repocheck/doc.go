// Package repocheck holds the tests that check the repository as a whole
// rather than one package: the README's snippets match the code they are
// taken from, and the documentation matches the tree. It has no code of its
// own.
package repocheck
