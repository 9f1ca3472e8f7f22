package powerbi

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
)

// readDataflowDocuments fills Dataflow.Document of the batch's Gen1 and Gen2
// dataflows from their definitions (GET groups/{group}/dataflows/{dataflow}, the
// model.json whose pbi:mashup.document is the M of the entities), when
// scanner.dataflow_definitions is on. The scanner does not send a dataflow's M.
// A definition that cannot be read is a warning naming the dataflow: the
// dataflow keeps everything else, its lineage is only left unresolved.
// Datamarts have no definition endpoint and are left as they are.
func (c *Client) readDataflowDocuments(ctx context.Context, snap *snapshot.Snapshot) {
	if c.cfg.Scanner.DataflowDefinitions == nil || !*c.cfg.Scanner.DataflowDefinitions {
		return
	}
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for di := range ws.Dataflows {
			d := &ws.Dataflows[di]
			if d.ID == "" || d.Type == snapshot.Datamart || d.Document != "" {
				continue
			}
			doc, err := c.dataflowDocument(ctx, ws.ID, d.ID)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.Warn("could not read a dataflow's definition; its lineage is left out",
					"workspace", ws.ID, "dataflow", d.ID, "name", d.Name, "error", err.Error())
				continue
			}
			d.Document = doc
			ws.Raw = nil // the scan result no longer says all of it
		}
	}
}

func (c *Client) dataflowDocument(ctx context.Context, group, id string) (string, error) {
	var def struct {
		Mashup struct {
			Document string `json:"document"`
		} `json:"pbi:mashup"`
	}
	_, err := c.DoStream(ctx, "GET", "groups/"+group+"/dataflows/"+id, func(body io.Reader) error {
		// A definition can be large (entities, partitions): read only what is needed.
		return json.NewDecoder(body).Decode(&def)
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(def.Mashup.Document), nil
}
