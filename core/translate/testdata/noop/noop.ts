// noop keeps every asset unchanged: the host overhead of the AssemblyScript kit.
import { Asset, Translator, register } from "../../../../sdk/translator/assemblyscript/index";
export { pbisync_abi_version_1, pbisync_init, pbisync_translate } from "../../../../sdk/translator/assemblyscript/index";

class Noop extends Translator {
  translate(asset: Asset): string | null { return null; }
}

register(new Noop());
