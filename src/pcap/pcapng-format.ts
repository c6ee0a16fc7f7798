/**
 * pcapng's numbers, shared by the reader and the writer: block types and option codes
 * (draft-ietf-opsawg-pcapng). One home for each, so both sides speak the same format.
 */
export const PCAPNG_SHB_TYPE = 0x0a0d0d0a;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Interface Description Block. */
export const IDB = 1;
/** The obsolete Packet Block. */
export const PB = 2;
/** Simple Packet Block. */
export const SPB = 3;
/** Enhanced Packet Block. */
export const EPB = 6;
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const OPT_IF_NAME = 2;
export const OPT_SHB_USERAPPL = 4;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;
