/**
 * The packet runtime a command needs before it builds, dissects or shows packets: every layer
 * registered by name (factories imports them all), the link types dissect() starts from, and the
 * summary()/show()/hexdump() hooks. Kept apart from '../index.js' so that a command loads these
 * without also loading sr, tcp, lab and script.
 */
import '../packet/factories.js';
import '../packet/link-types.js';
import '../show/index.js';
