package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/auditx/chain"
)

const recorded = "internal/auditread/testdata/"

func runAuditCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAuditVerifyCommand(t *testing.T) {
	key := recorded + "pub.pem"
	code, out, stderr := runAuditCmd("audit", "verify", "-key", key, recorded+"collector-archive.jsonl")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "result: VALID")

	// A directory with a rotated, gzip-less backup and the live file, and
	// other signals' files beside them.
	dir := t.TempDir()
	data, err := os.ReadFile(recorded + "collector-archive.jsonl")
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "audit-2026-11-29T00-00-00.000.jsonl"), []byte(strings.Join(lines[:2], "")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "audit.jsonl"), []byte(strings.Join(lines[2:], "")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "traces.jsonl"), []byte(`{"resourceSpans":[]}`+"\n"), 0o600))
	code, out, stderr = runAuditCmd("audit", "verify", "-key", key, "-json", dir)
	require.Equal(t, 0, code, "%s%s", out, stderr)
	var rep chain.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.OK)
	assert.Len(t, rep.Streams, 2)

	// The files in the wrong order: the second stream's records come
	// first, which is fine (streams are apart), but a stream's own records
	// out of order are reported.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "audit.jsonl"), []byte(strings.Join(lines[:2], "")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "audit-2026-11-29T00-00-00.000.jsonl"), []byte(strings.Join(lines[2:], "")), 0o600))
	code, out, _ = runAuditCmd("audit", "verify", "-key", key, dir)
	assert.Equal(t, 0, code, out)

	// Unsigned is accepted without keys only when no checkpoint is signed;
	// these are signed, so without -key the keys are unknown: exit 1.
	code, out, _ = runAuditCmd("audit", "verify", recorded+"collector-archive.jsonl")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "signed with unknown key")

	code, _, _ = runAuditCmd("audit", "verify")
	assert.Equal(t, 2, code)
}

func TestAuditKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	code, _, stderr := runAuditCmd("audit", "keygen", "-o", priv, "-pub", pub)
	require.Equal(t, 0, code, stderr)
	s, err := chain.LoadSigner(priv)
	require.NoError(t, err)
	b, err := os.ReadFile(pub)
	require.NoError(t, err)
	p, err := chain.ParsePublicKey(b)
	require.NoError(t, err)
	assert.Equal(t, s.KeyID(), chain.KeyID(p))
	assert.Contains(t, stderr, s.KeyID())
	code, _, _ = runAuditCmd("audit", "keygen", "-o", priv) // exists
	assert.Equal(t, 1, code)
}
