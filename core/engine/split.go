package engine

import "github.com/pbisync/pbisync/core/snapshot"

// partWorkspaces is how many workspaces of a batch go through the builder, translators
// and sinks at a time. A scan batch is up to 100 workspaces (the service's limit for one
// getInfo); building all its specs, their sink messages and estate pages at once held
// several hundred megabytes for a large tenant, and the collector's work grows with what
// is held. A part of 10 workspaces holds a tenth of that, and costs nothing in requests.
const partWorkspaces = 10

// splitSnapshot cuts a batch into parts of at most n workspaces, sharing s's workspaces
// (nothing is copied). Each part carries the data sources its own items use, in s's order,
// so that the builder sees for each data source the same first user as in the whole batch;
// a data source used by several parts is in each (the builder builds it once), and those
// that no item uses go with the last part.
func splitSnapshot(s *snapshot.Snapshot, n int) []*snapshot.Snapshot {
	if n <= 0 || len(s.Workspaces) <= n {
		return []*snapshot.Snapshot{s}
	}
	at := make(map[string]int, len(s.DataSources))
	for i := range s.DataSources {
		if _, dup := at[s.DataSources[i].ID]; !dup {
			at[s.DataSources[i].ID] = i
		}
	}
	used := make([]bool, len(s.DataSources))
	var parts []*snapshot.Snapshot
	var mines [][]bool
	for start := 0; start < len(s.Workspaces); start += n {
		end := min(start+n, len(s.Workspaces))
		part := &snapshot.Snapshot{Version: s.Version, Source: s.Source, TakenAt: s.TakenAt,
			Workspaces: s.Workspaces[start:end:end], FromRaw: s.FromRaw}
		mine := make([]bool, len(s.DataSources))
		for wi := range part.Workspaces {
			for id := range part.Workspaces[wi].UsedDataSources() {
				if i, ok := at[id]; ok {
					mine[i], used[i] = true, true
				}
			}
		}
		parts, mines = append(parts, part), append(mines, mine)
	}
	last := mines[len(mines)-1]
	for i, u := range used {
		if !u {
			last[i] = true // unused (or a duplicate id): with the last part, in order
		}
	}
	for p, mine := range mines {
		for i, m := range mine {
			if m {
				parts[p].DataSources = append(parts[p].DataSources, s.DataSources[i])
			}
		}
	}
	return parts
}
