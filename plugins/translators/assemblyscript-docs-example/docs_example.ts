// The translator from the dagster-powerbi docs, in AssemblyScript: dashboards get a
// prefix in front of their key (config "prefix", default "prefix") and team:my_team as
// their owner.
import { Asset, Config, ContentType, Translator, register } from "../../../sdk/translator/assemblyscript/index";
export { pbisync_abi_version_1, pbisync_init, pbisync_translate } from "../../../sdk/translator/assemblyscript/index";

class DocsExample extends Translator {
  prefix: string = "prefix";

  init(config: Config): string | null {
    const p = config.get("prefix");
    if (p !== null) this.prefix = p;
    if (this.prefix.length == 0) return "config: prefix must not be empty";
    return null;
  }

  translate(asset: Asset): string | null {
    if (asset.contentType() == ContentType.Dashboard) {
      asset.prefixKey(this.prefix);
      asset.setOwners(["team:my_team"]);
    }
    return null;
  }
}

register(new DocsExample());
