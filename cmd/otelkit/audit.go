package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/otelkit/otelkit/auditx/chain"
	"github.com/otelkit/otelkit/cmd/otelkit/internal/auditread"
)

const auditUsage = `Usage:

	otelkit audit verify [flags] [file or directory ...]
	otelkit audit keygen -o key.pem [-pub pub.pem]

Checks the audit trail: reads audit records from the collector's JSONL
archive (OTLP JSON lines, rotated files, gzip) and from VictoriaLogs LogsQL
exports (JSON lines of /select/logsql/query, as files or with -url), groups
them by stream and checks each stream's hash chain and signed checkpoints.
A directory is read file by file (*.jsonl, *.json, *.gz), oldest first.
Exit status: 0 for a whole, valid trail; 1 when anything is missing,
modified, reordered, inserted, cut off or wrongly signed; 2 for usage or
read errors.

Flags:
`

// runAudit runs "otelkit audit ...".
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return runVerify(ctx, args[1:], stdout, stderr)
		case "keygen":
			return runKeygen(args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, auditUsage)
	return 2
}

// runKeygen writes a new Ed25519 signing key (PKCS#8 PEM, mode 0600) and
// its public key (PKIX PEM), the formats OTELKIT_AUDIT_SIGNING_KEY_FILE and
// "verify -key" read.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("otelkit audit keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "file for the private key (required; must not exist)")
	pubOut := fs.String("pub", "", "file for the public key (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "otelkit audit keygen: -o is required")
		return 2
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		fmt.Fprintf(stderr, "otelkit audit keygen: %v\n", err)
		return 1
	}
	privPEM, err := chain.MarshalPrivateKey(priv)
	if err == nil {
		var f *os.File
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			_, err = f.Write(privPEM)
			err = errors.Join(err, f.Close())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "otelkit audit keygen: %v\n", err)
		return 1
	}
	pubPEM, _ := chain.MarshalPublicKey(pub)
	if *pubOut != "" {
		if err := os.WriteFile(*pubOut, pubPEM, 0o644); err != nil {
			fmt.Fprintf(stderr, "otelkit audit keygen: %v\n", err)
			return 1
		}
	} else {
		_, _ = stdout.Write(pubPEM)
	}
	fmt.Fprintf(stderr, "otelkit audit keygen: key id %s\n", chain.KeyID(pub))
	return 0
}

type keyFlags []string

func (k *keyFlags) String() string     { return strings.Join(*k, ",") }
func (k *keyFlags) Set(v string) error { *k = append(*k, v); return nil }

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("otelkit audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, auditUsage)
		fs.PrintDefaults()
	}
	var keys keyFlags
	fs.Var(&keys, "key", "PEM public key (or key file) of a checkpoint signer; repeat for rotated keys")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	allowOpen := fs.Bool("allow-open", false, "accept streams without a final checkpoint (processes still running)")
	vlURL := fs.String("url", "", "VictoriaLogs base URL to query (e.g. http://localhost:9428)")
	query := fs.String("query", `otelkit.audit.stream_id:*`, "LogsQL query used with -url")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 && *vlURL == "" {
		fmt.Fprintln(stderr, "otelkit audit verify: give archive files or directories, or -url")
		return 2
	}
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			fmt.Fprintf(stderr, "otelkit audit verify: %v\n", err)
			return 2
		}
		pub, err := chain.ParsePublicKey(b)
		if err != nil {
			fmt.Fprintf(stderr, "otelkit audit verify: %s: %v\n", k, err)
			return 2
		}
		pubs = append(pubs, pub)
	}
	v := chain.NewVerifier(pubs...)
	files, err := archiveFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "otelkit audit verify: %v\n", err)
		return 2
	}
	for _, f := range files {
		if err := readFile(f, v); err != nil {
			fmt.Fprintf(stderr, "otelkit audit verify: %v\n", err)
			return 2
		}
	}
	if *vlURL != "" {
		if err := readVictoriaLogs(ctx, *vlURL, *query, v); err != nil {
			fmt.Fprintf(stderr, "otelkit audit verify: %v\n", err)
			return 2
		}
	}
	rep := v.Report(*allowOpen)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		writeReport(stdout, rep)
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// archiveFiles expands directories into their archive files, oldest
// first: rotated backups ("audit-<time>.jsonl") by name, each before the
// file it was rotated from.
func archiveFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".gz")) {
				continue
			}
			names = append(names, n)
		}
		slices.SortFunc(names, func(x, y string) int {
			// "audit.jsonl" is newer than its backups "audit-2026-...jsonl".
			bx, by := strings.TrimSuffix(stem(x), ""), stem(y)
			if strings.HasPrefix(by, bx+"-") {
				return 1
			}
			if strings.HasPrefix(bx, by+"-") {
				return -1
			}
			return strings.Compare(x, y)
		})
		for _, n := range names {
			out = append(out, filepath.Join(a, n))
		}
	}
	return out, nil
}

// stem is a file name without its extensions.
func stem(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

func readFile(path string, v *chain.Verifier) error {
	rc, err := auditread.Open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	var ordered bool
	var buf []struct {
		r     chain.Record
		where string
	}
	format, err := auditread.Read(rc, filepath.Base(path), func(r chain.Record, where string) {
		buf = append(buf, struct {
			r     chain.Record
			where string
		}{r, where})
	})
	if err != nil {
		return err
	}
	ordered = format == auditread.FormatOTLP // a LogsQL result is sorted by time, not by storage
	for _, e := range buf {
		v.Add(e.r, e.where, ordered)
	}
	return nil
}

func readVictoriaLogs(ctx context.Context, base, query string, v *chain.Verifier) error {
	u := strings.TrimRight(base, "/") + "/select/logsql/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	_, err = auditread.Read(resp.Body, "victorialogs", func(r chain.Record, where string) { v.Add(r, where, false) })
	return err
}

// writeReport writes the short human report.
func writeReport(w io.Writer, rep *chain.Report) {
	signed := "signed"
	if !rep.Signed {
		signed = "UNSIGNED (checkpoints carry no signature: the chain shows edits, but not a rewrite from scratch)"
	}
	fmt.Fprintf(w, "audit trail: %d records read, %d streams, %s\n", rep.Records, len(rep.Streams), signed)
	if rep.Unchained > 0 {
		fmt.Fprintf(w, "  %d audit records carry no chain attributes (chaining off, or stripped)\n", rep.Unchained)
	}
	for _, s := range rep.Streams {
		fmt.Fprintf(w, "stream %s: %d records, seq %d-%d, %d checkpoints", s.StreamID, s.Records, s.FirstSeq, s.LastSeq, s.Checkpoints)
		if s.Final {
			fmt.Fprint(w, " (final)")
		}
		if s.Duplicates > 0 {
			fmt.Fprintf(w, ", %d duplicates (at-least-once delivery, not tampering)", s.Duplicates)
		}
		if s.PrevStreamID != "" {
			fmt.Fprintf(w, ", continues %s", s.PrevStreamID)
		}
		if s.ContinuedBy != "" {
			fmt.Fprintf(w, ", continued by %s", s.ContinuedBy)
		}
		fmt.Fprintln(w)
		if len(s.Problems) == 0 {
			fmt.Fprintln(w, "  ok")
		}
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  PROBLEM %s\n", p)
		}
	}
	if rep.OK {
		fmt.Fprintln(w, "result: VALID")
	} else {
		fmt.Fprintln(w, "result: NOT VALID")
	}
}
