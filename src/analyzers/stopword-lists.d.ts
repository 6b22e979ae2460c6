// The per-language modules of `stopword` (its own types cover only the main entry); each exports
// one array named by its ISO 639-3 code, which languages.ts reads.
declare module "stopword/src/stopwords_*";
