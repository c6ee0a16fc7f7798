/** Styles are bundled as text (esbuild's text loader) and put into a <style> element by main.ts. */
declare module '*.css' {
  const text: string;
  export default text;
}
