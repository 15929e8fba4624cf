/**
 * The language of a text line where its characters tell it: the Chinese and Latin-script model reads
 * both; a script that belongs to one language gives that language, Latin text gives `en` only when it
 * holds letters and nothing marks another language. Where nothing can be told, no code.
 */
const scripts: readonly { code: string; pattern: RegExp }[] = [
  { code: 'ja', pattern: /[\u3040-\u30ff]/u },
  { code: 'ko', pattern: /[\uac00-\ud7af\u1100-\u11ff]/u },
  { code: 'zh', pattern: /[\u4e00-\u9fff\u3400-\u4dbf]/u },
];

/** Letters only some Latin-script languages use. */
const latinMarkers: readonly { code: string; pattern: RegExp }[] = [
  { code: 'de', pattern: /[äöüß]/iu },
  { code: 'fr', pattern: /[àâæçéèêëîïôœùûÿ]/iu },
  { code: 'es', pattern: /[ñ¿¡áíóú]/iu },
];

export function languageOf(text: string): string | undefined {
  // Kana before Han: Japanese mixes both, Chinese has no kana.
  for (const { code, pattern } of scripts) if (pattern.test(text)) return code;
  if (!/\p{Script=Latin}/u.test(text)) return undefined;
  for (const { code, pattern } of latinMarkers) if (pattern.test(text)) return code;
  // A line needs a word (two letters in a row) to be called English rather than a code or a number.
  return /\p{Script=Latin}{2}/u.test(text) ? 'en' : undefined;
}
