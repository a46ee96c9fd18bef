package auditread

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/auditx/chain"
)

// The testdata were recorded from the real pipeline: the quickstart demo
// run twice on one spool directory with a signing key, through the
// collector distribution (bin/otelkit-otelcol, collector/config.yaml) whose
// file exporter wrote collector-archive.jsonl and whose audit exporter fed
// VictoriaLogs v1.52.1, queried with /select/logsql/query
// (victorialogs-v1.52.1.jsonl). collector/e2e regenerates both and runs the
// verifier on them live.

func verifyFile(t *testing.T, path string, tamper func(string) string) (*chain.Report, Format) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(data)
	if tamper != nil {
		text = tamper(text)
	}
	pemData, err := os.ReadFile(filepath.Join("testdata", "pub.pem"))
	require.NoError(t, err)
	pub, err := chain.ParsePublicKey(pemData)
	require.NoError(t, err)
	v := chain.NewVerifier(pub)
	format, err := Read(strings.NewReader(text), filepath.Base(path), func(r chain.Record, where string) {
		v.Add(r, where, false)
	})
	require.NoError(t, err)
	return v.Report(false), format
}

func TestReadRecordedSources(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format Format
	}{
		{"collector-archive.jsonl", FormatOTLP},
		{"victorialogs-v1.52.1.jsonl", FormatLogsQL},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, format := verifyFile(t, filepath.Join("testdata", tc.file), nil)
			assert.Equal(t, tc.format, format)
			require.True(t, rep.OK, "%+v", rep)
			assert.Equal(t, 9, rep.Records)
			require.Len(t, rep.Streams, 2)
			assert.True(t, rep.Signed)

			// One edited value is found, whatever the source's encoding.
			rep, _ = verifyFile(t, filepath.Join("testdata", tc.file), func(s string) string {
				return strings.Replace(s, "Grace", "Mallory", 1)
			})
			assert.False(t, rep.OK)
			n := 0
			for _, s := range rep.Streams {
				n += len(s.Modified)
			}
			assert.Equal(t, 1, n, "%+v", rep)
		})
	}
}

func TestOpenGzip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "collector-archive.jsonl"))
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data)
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "audit-2026-11-29T00-00-00.000.jsonl") // the name does not say gzip
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	rc, err := Open(path)
	require.NoError(t, err)
	defer rc.Close()
	n := 0
	_, err = Read(rc, "gz", func(chain.Record, string) { n++ })
	require.NoError(t, err)
	assert.Equal(t, 9, n)
}

func TestStreamKeys(t *testing.T) {
	got := streamKeys(`{event_name="a.b",host.name="v\"m,x=y",service.name="q"}`)
	assert.Equal(t, map[string]bool{"event_name": true, "host.name": true, "service.name": true}, got)
}

// FuzzRead: no input makes the reader panic.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"collector-archive.jsonl", "victorialogs-v1.52.1.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.SplitN(string(data), "\n", 3)
		f.Add([]byte(lines[0]))
		f.Add([]byte(lines[1]))
	}
	f.Add([]byte(`{"_time":"x"}`))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"github.com/otelkit/otelkit/auditx"},"logRecords":[{"body":{"arrayValue":{"values":[{"kvlistValue":{}}]}}}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Read(bytes.NewReader(data), "fuzz", func(r chain.Record, _ string) { _ = r.Hash() })
	})
}
