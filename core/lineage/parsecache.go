package lineage

import (
	"hash/maphash"

	"github.com/pbisync/pbisync/core/lineage/mquery"
)

// parseCache shares parsed M between the models of one ResolveSnapshot call: real
// tenants copy M between tables and models (a Date table in every model, the same
// model deployed to dev, test and prod workspaces). Trees are read-only to the
// evaluator, so one tree serves every copy.
//
// A text's first sighting is only remembered by its hash; from the second on its tree
// is kept, so a batch of unique texts (the generated tenant's) holds no trees beyond
// their models, and a batch of copies parses each text twice. The trees kept are
// bounded by the source bytes they were parsed from.
type parseCache struct {
	seed  maphash.Seed
	seen  map[uint64]struct{}
	docs  map[string]parsedDoc
	bytes int
	// parses and hits count, for tests.
	parses, hits int
}

type parsedDoc struct {
	doc *mquery.Document
	err error
}

// Bounds of a parseCache: the source bytes of the trees kept, and the number of
// texts remembered as seen once.
const (
	maxCachedSourceBytes = 4 << 20
	maxSeenTexts         = 1 << 18
)

func newParseCache() *parseCache {
	return &parseCache{seed: maphash.MakeSeed(), seen: map[uint64]struct{}{}, docs: map[string]parsedDoc{}}
}

// parse returns src's parse, shared with earlier calls for the same text. A nil
// cache parses every time.
func (c *parseCache) parse(src string) (*mquery.Document, error) {
	if c == nil {
		return mquery.Parse(src)
	}
	if d, ok := c.docs[src]; ok {
		c.hits++
		return d.doc, d.err
	}
	c.parses++
	doc, err := mquery.Parse(src)
	h := maphash.String(c.seed, src)
	if _, again := c.seen[h]; again {
		if c.bytes+len(src) <= maxCachedSourceBytes {
			c.docs[src] = parsedDoc{doc: doc, err: err}
			c.bytes += len(src)
			delete(c.seen, h)
		}
	} else if len(c.seen) < maxSeenTexts {
		c.seen[h] = struct{}{}
	}
	return doc, err
}
