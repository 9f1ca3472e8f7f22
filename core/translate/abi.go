// Package translate runs translators over records: WebAssembly modules on wazero (the
// ABI is in sdk/ABI.md) and no-code translations written in the pipeline's YAML. A
// pipeline's translators form a Chain; each sees the previous one's output.
package translate

// ABIVersion is the translator ABI this host speaks. A module declares it by exporting a
// function named abiMarkerPrefix + the version.
const ABIVersion = 1

const (
	abiMarkerPrefix = "pbisync_abi_version_"
	exportInit      = "pbisync_init"
	exportTranslate = "pbisync_translate"
	hostModule      = "pbisync"
)

// Field ids of the ABI (sdk/ABI.md, "Fields").
const (
	fieldType          = 1
	fieldID            = 2
	fieldName          = 3
	fieldWorkspaceID   = 4
	fieldWorkspaceName = 5
	fieldWorkspaceType = 6
	fieldRaw           = 7
	fieldConfig        = 8
	fieldInput         = 9

	fieldSpec        = 16
	fieldKey         = 17
	fieldDeps        = 18
	fieldKinds       = 19
	fieldOwners      = 20
	fieldDescription = 21
	fieldGroup       = 22
	fieldTags        = 23
	fieldMetadata    = 24
)

// Results of host functions.
const (
	statusOK        = 0
	statusAbsent    = -1
	statusInvalid   = -2
	statusTooLarge  = -3
	statusNoCurrent = -4
)

var fieldNames = map[int32]string{
	fieldType: "TYPE", fieldID: "ID", fieldName: "NAME", fieldWorkspaceID: "WORKSPACE_ID",
	fieldWorkspaceName: "WORKSPACE_NAME", fieldWorkspaceType: "WORKSPACE_TYPE", fieldRaw: "RAW",
	fieldConfig: "CONFIG", fieldInput: "INPUT", fieldSpec: "SPEC", fieldKey: "KEY", fieldDeps: "DEPS",
	fieldKinds: "KINDS", fieldOwners: "OWNERS", fieldDescription: "DESCRIPTION", fieldGroup: "GROUP",
	fieldTags: "TAGS", fieldMetadata: "METADATA",
}

func fieldLabel(f int32) string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return "field " + itoa(int(f))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
