// abort fails an assertion on every report: AssemblyScript calls env.abort.
import { Asset, ContentType, Translator, register } from "../../../../sdk/translator/assemblyscript/index";
export { pbisync_abi_version_1, pbisync_init, pbisync_translate } from "../../../../sdk/translator/assemblyscript/index";

class Abort extends Translator {
  translate(asset: Asset): string | null {
    assert(asset.contentType() != ContentType.Report, "reports are not welcome");
    asset.setTag("seen", "yes");
    return null;
  }
}

register(new Abort());
