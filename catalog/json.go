package catalog

import (
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
