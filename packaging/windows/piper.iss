; Inno Setup script for Piper Desktop on Windows (Inno Setup 6).
;
; Build the one-folder app on Windows first, then compile this script:
;   py bench\build_app.py --distpath dist          (PyInstaller, via piper.spec)
;   iscc /DAppDir=%CD%\dist\piper packaging\windows\piper.iss
; bench\build_app.py runs iscc itself when it finds it on PATH.
;
; The app folder holds two programs: PiperDesktop.exe (windowed, for the Start menu)
; and piper.exe (the console CLI, e.g. `piper self-test`). The operator's data stays in
; %LOCALAPPDATA%\PiperDesktop, shared with a source install, and survives uninstalling.

#define AppName "Piper Desktop"
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef AppDir
  #define AppDir "..\..\dist\piper"
#endif

[Setup]
AppId={{6F1C3B2A-4D5E-4F60-9A7B-8C9D0E1F2A3B}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Piper Desktop
DefaultDirName={autopf}\Piper Desktop
DefaultGroupName=Piper Desktop
DisableProgramGroupPage=yes
; Per-user install by default (no admin rights); the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=Output
OutputBaseFilename=PiperDesktop-{#AppVersion}-setup
SetupIconFile=..\icons\piper.ico
UninstallDisplayIcon={app}\PiperDesktop.exe
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes
; A running Piper holds its files open: ask to close it first.
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the piper command to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#AppDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Piper Desktop"; Filename: "{app}\PiperDesktop.exe"
Name: "{autodesktop}\Piper Desktop"; Filename: "{app}\PiperDesktop.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\PiperDesktop.exe"; Description: "{cm:LaunchProgram,Piper Desktop}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
