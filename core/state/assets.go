package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

// savedAsset is a pipeline_assets row.
type savedAsset struct {
	typ, id, key, name, workspaceID, workspaceName string
}

func savedAssetOf(s *Asset) (savedAsset, error) {
	key, err := keyJSON(s.Key)
	if err != nil {
		return savedAsset{}, err
	}
	return savedAsset{typ: string(s.PowerBI.Type), id: s.PowerBI.ID, key: key, name: s.PowerBI.Name,
		workspaceID: s.PowerBI.WorkspaceID, workspaceName: s.PowerBI.WorkspaceName}, nil
}

func compareSaved(a, b *savedAsset) int {
	if c := strings.Compare(a.typ, b.typ); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// savedAtOnce is how many rows one INSERT statement of SaveAssets writes.
const savedAtOnce = 64

// SaveAssets replaces the pipeline's remembered assets with specs, in one transaction.
// Call it after the sinks received the sync, so a failed sync is compared again.
//
// It writes what changed only: the rows it holds are read (in key order) and compared
// with the specs (sorted the same way), then the rows of assets gone are deleted and the
// new or changed ones written, several to a statement. An asset given twice is saved as
// given last.
func (s *Store) SaveAssets(ctx context.Context, pipeline string, specs []Asset) error {
	wrap := func(err error) error { return fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err) }
	want := make([]savedAsset, 0, len(specs))
	for i := range specs {
		id := specs[i].PowerBI
		if id.Type == "" || id.ID == "" {
			return fmt.Errorf("state %s: pipeline %q: asset %s has no Power BI identity", s.path, pipeline, specs[i].Key)
		}
		a, err := savedAssetOf(&specs[i])
		if err != nil {
			return wrap(fmt.Errorf("asset %s: %w", specs[i].Key, err))
		}
		want = append(want, a)
	}
	// Sorted by identity, the last of equal identities kept: the order is sorted as
	// indexes, equal identities by their place (what a stable sort of the rows, six
	// strings each, would give, at a fraction of its moves).
	order := make([]int32, len(want))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(compareSaved(&want[a], &want[b]), cmp.Compare(a, b))
	})
	uniq := make([]savedAsset, 0, len(want))
	for _, i := range order {
		if len(uniq) > 0 && compareSaved(&uniq[len(uniq)-1], &want[i]) == 0 {
			uniq[len(uniq)-1] = want[i]
			continue
		}
		uniq = append(uniq, want[i])
	}
	want = uniq

	// The log holds what the sync wrote since its last checkpoint (tens of megabytes for
	// a large tenant): it is copied into the database meanwhile, on a connection of its
	// own, so that closing the store after the sync has little left to copy.
	checkpointed := make(chan struct{})
	go func() {
		defer close(checkpointed)
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx), `PRAGMA wal_checkpoint(PASSIVE)`)
	}()
	defer func() { <-checkpointed }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	gone, changed, err := diffSaved(ctx, tx, pipeline, want)
	if err != nil {
		return wrap(err)
	}
	if err := deleteSaved(ctx, tx, pipeline, gone); err != nil {
		return wrap(err)
	}
	if err := insertSaved(ctx, tx, pipeline, changed); err != nil {
		return wrap(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_syncs (pipeline, synced_at, assets) VALUES (?, ?, ?)
		ON CONFLICT (pipeline) DO UPDATE SET synced_at = excluded.synced_at, assets = excluded.assets`,
		pipeline, time.Now().UTC().Format(time.RFC3339Nano), len(specs)); err != nil {
		return wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(err)
	}
	return nil
}

// diffSaved compares the pipeline's rows with want (sorted by identity, each once): it
// returns the rows whose asset want does not have, and the assets of want that are new
// or differ from their row.
func diffSaved(ctx context.Context, tx *sql.Tx, pipeline string, want []savedAsset) (gone, changed []savedAsset, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, id, key, name, workspace_id, workspace_name FROM pipeline_assets WHERE pipeline = ? ORDER BY type, id`, pipeline)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var r savedAsset
		if err := rows.Scan(&r.typ, &r.id, &r.key, &r.name, &r.workspaceID, &r.workspaceName); err != nil {
			return nil, nil, err
		}
		for i < len(want) && compareSaved(&want[i], &r) < 0 {
			changed = append(changed, want[i])
			i++
		}
		if i < len(want) && compareSaved(&want[i], &r) == 0 {
			if want[i] != r {
				changed = append(changed, want[i])
			}
			i++
			continue
		}
		gone = append(gone, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return gone, append(changed, want[i:]...), nil
}

func deleteSaved(ctx context.Context, tx *sql.Tx, pipeline string, gone []savedAsset) error {
	if len(gone) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `DELETE FROM pipeline_assets WHERE pipeline = ? AND type = ? AND id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, g := range gone {
		if _, err := stmt.ExecContext(ctx, pipeline, g.typ, g.id); err != nil {
			return fmt.Errorf("asset %s %s: %w", g.typ, g.id, err)
		}
	}
	return nil
}

// insertSaved writes rows, savedAtOnce to a statement.
func insertSaved(ctx context.Context, tx *sql.Tx, pipeline string, rows []savedAsset) error {
	var full *sql.Stmt
	args := make([]any, 0, 7*savedAtOnce)
	for len(rows) > 0 {
		part := rows[:min(len(rows), savedAtOnce)]
		rows = rows[len(part):]
		args = args[:0]
		for _, r := range part {
			args = append(args, pipeline, r.typ, r.id, r.key, r.name, r.workspaceID, r.workspaceName)
		}
		var err error
		if len(part) == savedAtOnce {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertSavedSQL(savedAtOnce)); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSavedSQL(len(part)), args...)
		}
		if err != nil {
			return fmt.Errorf("assets %s %s to %s %s: %w", part[0].typ, part[0].id, part[len(part)-1].typ, part[len(part)-1].id, err)
		}
	}
	return nil
}

func insertSavedSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO pipeline_assets (pipeline, type, id, key, name, workspace_id, workspace_name) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (pipeline, type, id) DO UPDATE SET key = excluded.key, name = excluded.name,
		workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name`)
	return b.String()
}

// keyJSON is json.Marshal of a key: directly for keys whose parts need no escaping
// (printable ASCII without '"', '\\', '<', '>' or '&'), through encoding/json for the others.
func keyJSON(k spec.Key) (string, error) {
	if k == nil {
		return "null", nil
	}
	n := 2
	for _, p := range k {
		if !plainJSON(p) {
			b, err := json.Marshal(k)
			return string(b), err
		}
		n += len(p) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, p := range k {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, p...)
		b = append(b, '"')
	}
	b = append(b, ']')
	return string(b), nil
}

// plainJSON reports whether json.Marshal writes s as its bytes between quotes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
