/** The plugins that ship with stoQ; plugin directories may add to or override them. */
import type { PluginDefinition } from '../api';
import b64decode from './b64decode';
import decompress from './decompress';
import dirmon from './dirmon';
import entropy from './entropy';
import exif from './exif';
import filedir from './filedir';
import filetype from './filetype';
import hash from './hash';
import iocextract from './iocextract';
import mimetype from './mimetype';
import ole from './ole';
import pecarve from './pecarve';
import peinfo from './peinfo';
import smtp from './smtp';
import stdout from './stdout';
import template from './template';
import xordecode from './xordecode';
import xyz from './xyz';
import yara from './yara';

export const builtinPlugins: PluginDefinition[] = [
  b64decode,
  decompress,
  dirmon,
  entropy,
  exif,
  filedir,
  filetype,
  hash,
  iocextract,
  mimetype,
  ole,
  pecarve,
  peinfo,
  smtp,
  stdout,
  template,
  xordecode,
  xyz,
  yara,
];
