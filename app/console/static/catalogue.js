// Names for the catalogue's codes (categories, skills, programmes, seasons), read once per page
// load from GET /catalogue; a code the catalogue does not name shows as itself.

let loaded = null;

export function catalogue(api) {
  if (!loaded) {
    loaded = api.get('/catalogue').then((c) => {
      const table = (entries) => new Map((entries || []).map((e) => [e.code, e.name]));
      const categories = table(c.categories);
      const skills = table(c.skills);
      return {
        category: (code) => categories.get(code) || code,
        skill: (code) => skills.get(code) || code,
      };
    }).catch((error) => {
      loaded = null;
      throw error;
    });
  }
  return loaded;
}

// Codes as they are, for a page that could not read the catalogue.
export const plainNames = { category: (code) => code, skill: (code) => code };
