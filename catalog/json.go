package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the catalog as indented JSON: the title, version, base
// URL and the entries in catalog order. The output of an unchanged catalog
// is byte for byte the same, so it can be committed and diffed.
func (c *Catalog) WriteJSON(w io.Writer) error {
	return writeJSON(w, c)
}

// ReadJSON decodes a catalog written by [Catalog.WriteJSON].
func ReadJSON(r io.Reader) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(r)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: decoding JSON: %w", err)
	}
	// WriteJSON indents the example bodies and the schema with the rest;
	// they are kept compact, as the renderer's description gave them.
	for i := range c.Entries {
		c.Entries[i].Example = compact(c.Entries[i].Example)
	}
	if c.Body != nil {
		c.Body.Schema = compact(c.Body.Schema)
	}
	return &c, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("catalog: encoding JSON: %w", err)
	}
	return nil
}

// compact returns the JSON b without insignificant space.
func compact(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return b
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}
