import { useEffect, useState } from "react";
import { parseList } from "../../lib/settings";

/** A comma-separated list typed as text: the text stays as typed, the list follows it, and
 * a list changed from outside (Revert) rewrites the text. */
export function ListInput({ value, onChange, placeholder, label, testId }: { value: string[]; onChange: (list: string[]) => void; placeholder: string; label: string; testId: string }) {
  const [text, setText] = useState(value.join(", "));
  useEffect(() => {
    setText((typed) => (parseList(typed).join(",") === value.join(",") ? typed : value.join(", ")));
  }, [value]);
  return (
    <input
      className="mono grow"
      placeholder={placeholder}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseList(e.target.value));
      }}
      spellCheck={false}
      aria-label={label}
      data-testid={testId}
    />
  );
}
